
B
input_meanJem:ß8«