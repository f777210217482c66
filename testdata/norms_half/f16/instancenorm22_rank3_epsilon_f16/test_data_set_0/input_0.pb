	
BinputJo¸<Ã¶NCD#<-¿AvEX:e&­<,9`ÁMABµµ4>FÄ=B93>0Áù9Í@I?ª?·À÷:~¼=Mº/=FB]ER==C;¼âŸCú<QA7Dy0Â<#><D,AiDeÀBpF/B€2e½ü=,¾A©?¦<m?[ºC@Ù­	¾lÀû?P:¾