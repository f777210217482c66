
B	input_varJ9\:8F<