
B	input_varJÀ=G<N:;