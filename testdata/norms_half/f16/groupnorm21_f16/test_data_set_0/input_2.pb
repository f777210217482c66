
BbiasJbº_·@Ü±«´>