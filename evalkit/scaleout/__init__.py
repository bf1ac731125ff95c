"""Beyond one engine: data-parallel replicas on a Ray cluster, tensor/pipeline parallelism."""
