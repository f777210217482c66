Binv_std_varJ[Øÿ>ÌÕù>lZ?÷·e?}úá>m
?