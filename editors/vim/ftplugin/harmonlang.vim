" HarmonLang filetype settings: `#` comments, two-space indents.
if exists('b:did_ftplugin')
  finish
endif
let b:did_ftplugin = 1

setlocal commentstring=#\ %s
setlocal comments=:#
setlocal formatoptions-=t formatoptions+=croql
setlocal shiftwidth=2 softtabstop=2 expandtab
setlocal iskeyword=@,48-57,_,-,'
setlocal suffixesadd=.circle
" `gf` on an import opens the file: strip the quotes.
setlocal includeexpr=substitute(v:fname,'^\"\\\|\"$','','g')
setlocal include=^\\s*import\\s\\+

" `:make` runs `harmonc check` on the file (`%:S`: its name quoted for the shell, spaces and `%` too).
" It reports file:line:col: error: message (or warning:), then the source line and a hint: only the
" first line of each makes a quickfix entry (`%-G%.%#` drops every other line).
setlocal errorformat=%f:%l:%c:\ %trror:\ %m,%f:%l:%c:\ %tarning:\ %m,%f:%l:%c:\ %m,%-G%.%#
setlocal makeprg=harmonc\ check\ %:S

let b:undo_ftplugin = 'setlocal commentstring< comments< formatoptions< shiftwidth< softtabstop< expandtab<'
      \ . ' iskeyword< suffixesadd< includeexpr< include< errorformat< makeprg<'
