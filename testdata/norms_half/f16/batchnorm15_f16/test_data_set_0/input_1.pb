
BscaleJf¼­=¾1=¾