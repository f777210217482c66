
B	input_varJ‡<H6¤<