var ok = 1;
var broken = ;
result = ok;
