
B
input_meanJz©ë=5þ: