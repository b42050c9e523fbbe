"""The robustness lab's compute (no Qt): adversarial examples, natural transformations, dataset bias and
adversarial fairness. The Lab workspace and ``cnnstudio robustness`` both drive these modules."""
