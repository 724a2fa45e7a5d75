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

" `harmonc check` reports file:line:col: error: message.
setlocal errorformat=%f:%l:%c:\ %trror:\ %m,%f:%l:%c:\ %tarning:\ %m,%f:%l:%c:\ %m
setlocal makeprg=harmonc\ check\ %

let b:undo_ftplugin = 'setlocal commentstring< comments< formatoptions< shiftwidth< softtabstop< expandtab<'
      \ . ' iskeyword< suffixesadd< includeexpr< include< errorformat< makeprg<'
