
BscaleJƒ¯Î¼u: