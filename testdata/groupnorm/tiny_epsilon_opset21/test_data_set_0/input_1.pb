BscaleJÿ
.øb)Ö>øÑ>hê±æ