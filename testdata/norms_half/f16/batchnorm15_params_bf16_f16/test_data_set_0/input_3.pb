B
input_meanJ–?¿6?