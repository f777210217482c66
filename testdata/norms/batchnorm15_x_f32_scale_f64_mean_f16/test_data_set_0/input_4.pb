
B	input_varJÍ6l<©5