
B
input_meanJ
=v#“<