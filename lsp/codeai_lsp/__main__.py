from codeai_lsp.server import main

main()
