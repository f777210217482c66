
BscaleJñ !@8H¹Pº®»»³}5