
BoutputJ(ﬂ
Ú=ˆCC?o˝Oø™øWVd>Tä1?’›(>p¿„æñ6_?7nºæ