
BscaleJƒ¼í·ê99