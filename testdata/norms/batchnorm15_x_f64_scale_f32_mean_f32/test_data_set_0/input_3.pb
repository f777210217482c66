B
input_meanJ█3─?б >йн->