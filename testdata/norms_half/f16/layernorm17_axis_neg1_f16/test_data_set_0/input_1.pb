
BScaleJ:H8^3åºëº]>m4Îµ