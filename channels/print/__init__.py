"""The printed outlet: the weekly bulletin as PDF, written to a folder and sent by e-mail."""
