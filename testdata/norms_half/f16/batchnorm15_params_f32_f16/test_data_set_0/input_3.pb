B
input_meanJÊµ?!A?¬Pg?