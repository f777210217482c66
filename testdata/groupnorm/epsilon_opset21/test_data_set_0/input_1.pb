BscaleJPù™¿B¯>[¿>
¿