# logfmt -> typed JSON (numbers and booleans typed, quoted values kept as strings)
$LOGWASH -f logfmt.lw app.log
