from codeai_lang.cli import main

main()
