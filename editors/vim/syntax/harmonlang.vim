" Vim syntax file
" Language:    HarmonLang (.circle songs, compiled by harmonc)
" Follows grammar/harmon.lark; the music inside strings (notes, chord progressions, drum steps) is told apart
" by what the string holds, as editors/vscode/syntaxes/harmonlang.tmLanguage.json does.

if exists('b:current_syntax')
  finish
endif
scriptencoding utf-8
let s:cpo_save = &cpo
set cpo&vim

syn case match
syn iskeyword @,48-57,_,-,'

" ---- comments: `#` at a line's start or after whitespace, `;` or a bracket (`f#4` is a note) ----------
syn keyword harmonTodo contained TODO FIXME XXX NOTE
syn match harmonComment /\%(^\|[[:space:];{}()]\)\@1<=#.*$/ contains=harmonTodo,@Spell

" ---- statements ------------------------------------------------------------------------------------
" A setting is the first name of a statement (keywords win over it); `PART plays|on ...` overrides a part.
syn match harmonSetting /\%(\%(^\|[{;]\)\s*\)\@<=\h[[:alnum:]_-]*['′]\=\%([[:alnum:]_.-]\)\@!/
syn match harmonPartRef /\%(\%(^\|[{;]\)\s*\)\@<=\h[[:alnum:]_-]*\ze\s\+\%(plays\|on\)\>/

syn keyword harmonImport import
syn keyword harmonSong song
syn keyword harmonMaterialKind theme prog groove nextgroup=harmonMaterialName skipwhite
syn match harmonMaterialName contained /\h[[:alnum:]_-]*['′]\=/
syn keyword harmonPartKeyword part nextgroup=harmonPartName skipwhite
syn match harmonPartName contained /\h[[:alnum:]_-]*/ nextgroup=harmonRoleSep skipwhite
syn match harmonRoleSep contained /:/ nextgroup=harmonRole skipwhite
syn match harmonRole contained /\h[[:alnum:]_-]*/
syn keyword harmonPlays plays nextgroup=harmonMaterialRef skipwhite
syn match harmonMaterialRef contained /\h[[:alnum:]_-]*['′]\=\%([[:alnum:]_.-]\)\@!/
syn keyword harmonOn on nextgroup=harmonDevice skipwhite
syn match harmonDevice contained /\h[[:alnum:]_-]*\%(\.[[:alnum:]_'][[:alnum:]_'-]*\)*/

syn keyword harmonSection act step sequence scene phrase nextgroup=harmonSectionName,harmonNumber skipwhite
syn match harmonSectionName contained /\%(\d\+[ab]\|\h[[:alnum:]_'′-]*\%(\.[[:alnum:]_'][[:alnum:]_'-]*\)*\)\%([[:alnum:]_]\)\@!/
syn keyword harmonPhrase chorus bridge transition
syn keyword harmonDefinition genre device circle nextgroup=harmonDefinitionName skipwhite
syn match harmonDefinitionName contained /\h[[:alnum:]_-]*/

" ---- values ----------------------------------------------------------------------------------------
syn match harmonNumber /\v%(^|[^[:alnum:]_.+-])@1<=[+-]?%(\d+%(\.\d*)?|\.\d+)%(\%|dB|db|st|bpm|x)?%([[:alnum:]_.])@!/
      \ contains=harmonUnit
syn match harmonUnit contained /\v%(\d)@1<=%(\%|dB|db|st|bpm|x)/
syn match harmonRange /\v%([[:alnum:]_.])@1<![+-]?\d+%(\.\d+)?\.\.[+-]?\d+%(\.\d+)?/
syn match harmonFraction /\v%([[:alnum:]_.])@1<!\d+\/\d+\.{0,2}/
syn match harmonRatio /\v%([[:alnum:]_.])@1<!\d+:\d+/
syn match harmonSceneId /\v%([[:alnum:]_.])@1<!\d+[ab]%([[:alnum:]_])@!/
syn match harmonSceneId /\v%([[:alnum:]_.'-])@1<!%(I|IIa|IIb|III)\.\h[[:alnum:]_-]*%(\.\d+[ab]?)?%([[:alnum:]_.'-])@!/
syn match harmonPitchName /\v%([[:alnum:]_#-])@1<![A-Ga-g]%(##|#|bb|b|♯|♭)%(-1|\d)?%([[:alnum:]_#-])@!/
syn match harmonPipe /|/ nextgroup=harmonTransform skipwhite
syn keyword harmonTransform contained transpose octave invert retrograde augment diminish displace thin repeat
syn match harmonOperator /[=:]/
syn match harmonDelimiter /[{}();]/

" ---- strings, and the music they hold --------------------------------------------------------------
syn region harmonString start=/"/ end=/"\|$/ oneline contains=@Spell

" drum steps: `x` hit, `X` accent, `o` ghost, 1-9 strength, `.` `-` `_` rest, `|` and spaces for grouping
syn match harmonSteps /\v"%([0-9| ]*[xXo.\-_][xXo0-9.\-_| ]*)"/
      \ contains=harmonStepHit,harmonStepAccent,harmonStepGhost,harmonStepStrength,harmonStepRest,harmonBar
syn match harmonStepHit contained /x/
syn match harmonStepAccent contained /X/
syn match harmonStepGhost contained /o/
syn match harmonStepStrength contained /[1-9]/
syn match harmonStepRest contained /[.\-_0]\+/

" chord progressions: Roman numerals (`i`, `V7/V`, `bVII`, `viiø7`), symbols (`Am7`, `F/C`), `%`, `|`
syn match harmonChords /\v"%(\s*%([b#♭♯]?%(VII|VI|IV|V|III|II|I|vii|vi|iv|v|iii|ii|i)[°o+ø]?%(maj9|maj7|M7|7sus4|7b9|7#9|sus4|sus2|add9|13|11|64|65|43|42|7|9|6|2)?%(\/[b#♭♯]?%(VII|VI|IV|V|III|II|I|vii|vi|iv|v|iii|ii|i)[°o+ø]?)?|[A-G][#b♯♭]?%(mmaj7|7sus4|madd9|sus2|sus4|maj7|min7|m7b5|dim7|aug7|add9|maj9|maj|min|dim|aug|sus|mM7|7b9|7#9|m11|m6|M7|m7|-7|ø7|°7|o7|\+7|m9|11|13|M|m|-|°|o|\+|5|6|7|Δ|ø|9)?%(\/[A-G][#b♯♭]?)?|\%|\|)%([[:space:]|"])@=)+\s*"/
      \ contains=harmonChord,harmonChordRepeat,harmonBar
syn match harmonChord contained /\v[^[:space:]|"%]+/
syn match harmonChordRepeat contained /%/

" notes: `a4/8`, `c#5/4.`, `r/2`, `[e4 a4]/2`, `b4/2~`, `d5!`, `a4@110`, `@mf`, bar checks `|`
syn match harmonNotes /\v"%(\s*%([a-gA-G]%(##|#|bb|b|♯|♭)?%(-1|\d)?%(\/\d+\.{0,2}t?)?[!?]*%(\@\d+)?\~?|[rR]%(\/\d+\.{0,2}t?)?[!?]*%(\@\d+)?\~?|\[[^\]"]*\]%(\/\d+\.{0,2}t?)?[!?]*%(\@\d+)?\~?|\@%(ppp|pp|p|mp|mf|fff|ff|f|\d+)|\|)%([[:space:]|"])@=)+\s*"/
      \ contains=harmonNote,harmonRest,harmonDuration,harmonArticulation,harmonVelocity,harmonTie,harmonDynamic,harmonBar,harmonNoteChord
syn match harmonNote contained /\v[a-gA-G]%(##|#|bb|b|♯|♭)?%(-1|\d)?/
syn match harmonRest contained /\v[rR]%(\/|[[:space:]|"!?@~]|$)@=/
syn match harmonDuration contained /\v\/\d+\.{0,2}t?/
syn match harmonArticulation contained /[!?]/
syn match harmonVelocity contained /@\d\+/
syn match harmonTie contained /\~/
syn match harmonDynamic contained /\v%([[:space:]"])@1<=\@%(ppp|pp|p|mp|mf|fff|ff|f|\d+)%([[:space:]|"])@=/
syn match harmonNoteChord contained /[[\]]/
syn match harmonBar contained /|/

" imports and titles are plain strings (defined last: they win where they start)
syn match harmonImportPath /\%(\<import\s\+\)\@<="[^"]*"/
syn match harmonTitle /\%(\<song\s\+\)\@<="[^"]*"/

" ---- highlighting ----------------------------------------------------------------------------------
hi def link harmonComment        Comment
hi def link harmonTodo           Todo
hi def link harmonImport         Include
hi def link harmonImportPath     String
hi def link harmonSong           Structure
hi def link harmonTitle          String
hi def link harmonMaterialKind   StorageClass
hi def link harmonMaterialName   Function
hi def link harmonMaterialRef    Identifier
hi def link harmonPartKeyword    StorageClass
hi def link harmonPartName       Function
hi def link harmonPartRef        Identifier
hi def link harmonRoleSep        Operator
hi def link harmonRole           Type
hi def link harmonPlays          Keyword
hi def link harmonOn             Keyword
hi def link harmonDevice         Type
hi def link harmonSection        Statement
hi def link harmonSectionName    Label
hi def link harmonPhrase         Statement
hi def link harmonDefinition     Structure
hi def link harmonDefinitionName Function
hi def link harmonSetting        Identifier
hi def link harmonNumber         Number
hi def link harmonUnit           Special
hi def link harmonRange          Number
hi def link harmonFraction       Number
hi def link harmonRatio          Number
hi def link harmonSceneId        Label
hi def link harmonPitchName      Constant
hi def link harmonPipe           Operator
hi def link harmonTransform      Function
hi def link harmonOperator       Operator
hi def link harmonDelimiter      Delimiter
hi def link harmonString         String
hi def link harmonSteps          String
hi def link harmonStepHit        Special
hi def link harmonStepAccent     SpecialChar
hi def link harmonStepGhost      Character
hi def link harmonStepStrength   Number
hi def link harmonStepRest       Delimiter
hi def link harmonChords         String
hi def link harmonChord          Constant
hi def link harmonChordRepeat    Special
hi def link harmonNotes          String
hi def link harmonNote           Constant
hi def link harmonRest           Special
hi def link harmonDuration       Number
hi def link harmonArticulation   Operator
hi def link harmonVelocity       Number
hi def link harmonTie            Operator
hi def link harmonDynamic        PreProc
hi def link harmonNoteChord      Delimiter
hi def link harmonBar            Delimiter

let b:current_syntax = 'harmonlang'
let &cpo = s:cpo_save
unlet s:cpo_save
