" HarmonLang indentation: two spaces per open brace.
if exists('b:did_indent')
  finish
endif
let b:did_indent = 1

setlocal indentexpr=GetHarmonLangIndent(v:lnum)
setlocal indentkeys=0},0),!^F,o,O
setlocal autoindent

let b:undo_indent = 'setlocal indentexpr< indentkeys< autoindent<'

if exists('*GetHarmonLangIndent')
  finish
endif

" The braces a line opens minus those it closes, outside strings and comments.
function! s:BraceBalance(line) abort
  let text = substitute(a:line, '"[^"]*"', '""', 'g')
  let text = substitute(text, '\%(^\|[[:space:];{}()]\)\zs#.*$', '', '')
  let opened = len(substitute(text, '[^{(]', '', 'g'))
  let closed = len(substitute(text, '[^})]', '', 'g'))
  return opened - closed
endfunction

function! GetHarmonLangIndent(lnum) abort
  let prev = prevnonblank(a:lnum - 1)
  if prev == 0
    return 0
  endif
  let step = shiftwidth()
  let current = getline(a:lnum)
  " the statement the previous line belongs to: back over its continuation lines (`|` or `"` first)
  while prev > 1 && getline(prev) =~# '^\s*[|"]'
    let prev = prevnonblank(prev - 1)
  endwhile
  " A continuation line, as `harmonc fmt` lays it out: a string lines up under the first string of the
  " statement's first line; anything else (and a string when that line has none) hangs two levels in.
  if current =~# '^\s*[|"]'
    let first = getline(prev)
    if current =~# '^\s*"'
      let quote = stridx(first, '"', indent(prev))
      if quote >= 0
        return strdisplaywidth(strpart(first, 0, quote))
      endif
    endif
    return indent(prev) + 2 * step
  endif
  let ind = indent(prev)
  let prevline = getline(prev)
  " a line that starts by closing braces was already outdented for them
  let leading = len(matchstr(prevline, '^\s*\zs[})]\+'))
  let ind += (s:BraceBalance(prevline) + leading) * step
  " a line that starts with `}` closes the block above
  let ind -= len(matchstr(current, '^\s*\zs[})]\+')) * step
  return ind < 0 ? 0 : ind
endfunction
