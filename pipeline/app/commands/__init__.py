"""One module per CLI verb: NAME, HELP, add_arguments(parser), run(args). The CLI finds them by listing this package."""
