"""scikit-learn's estimator checks for the array transformers (no expected failures).

ImageResizer (2-D input needs ``image_shape``) and TextTokenizer (text only)
take input the generic checks do not make; their contract is tested in their
own test modules.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from kerasbig.preprocessing import ImageScaler, SequencePadder


@parametrize_with_checks([ImageScaler(), SequencePadder()])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
