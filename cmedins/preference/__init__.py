"""The preference (DPO) set of the paper's second stage: prompt sampling, candidate answers, the annotation
round-trip with Label Studio, cross-annotation agreement, expert adjudication and the Safety > Professionalism >
Fluency decision (`stage.py` wires them into the `preference` build stage; `__main__.py` is the command line)."""
