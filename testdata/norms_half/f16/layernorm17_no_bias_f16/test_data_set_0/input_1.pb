
BScaleJ
=??E<\°8^¾