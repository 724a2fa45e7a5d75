" HarmonLang songs: *.circle files.
autocmd BufNewFile,BufRead *.circle setfiletype harmonlang
