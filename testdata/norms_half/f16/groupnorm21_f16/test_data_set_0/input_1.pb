
BscaleJ< :L¹Ù=`¹7µ