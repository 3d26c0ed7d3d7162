"""typeset"""
