"""Everything that joins ARC tasks (`puzzles.arc`) to the HRM (`models`).

- `model`: what an ARC model knows besides its weights: its canvas and each task's views;
- `training`: the training recipe (views and examples per task, held-out pairs, batch source);
- `adaptation`: learning a new task's embedding rows (optionally the weights) from its
  demonstrations, as `hrm adapt` and test-time training do;
- `solving`: voted attempts per test input, pass@2, `hrm solve arc` and `hrm eval arc`;
- `render`: tasks, attempts and verdicts as rich text.
"""
