
B
input_meanJM<:8%9