"""Plain modules with no Rasa imports: the review log (unanswered questions, feedback)."""
