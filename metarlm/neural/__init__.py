"""The neural policy: program sampler (``sample``), token encoding (``tokens``), the
encoder-decoder (``model``), grammar-constrained decoding (``decode``), training (``train``)
and the proposer the search consults (``propose``)."""
