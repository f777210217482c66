BscaleJØ
.¿b)…>