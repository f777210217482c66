B
input_meanJi?z=¿Ö?