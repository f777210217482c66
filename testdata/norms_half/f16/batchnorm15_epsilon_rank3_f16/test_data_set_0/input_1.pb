
BscaleJæ°]?ö±4