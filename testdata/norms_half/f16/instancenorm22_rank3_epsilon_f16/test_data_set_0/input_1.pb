
BscaleJ-À8<:8²¶