"""Spark for national scale (issue 8): the same Splink model that DuckDB runs embedded, on Apache
Spark. A cluster is the production target (the session comes from the cluster's configuration);
``local_session`` starts Spark in local mode in this process, which is what the tests use.

Splink's Spark backend needs its similarity functions (Jaro–Winkler, Damerau–Levenshtein) as a
Scala UDF jar; the jar ships inside the ``splink`` wheel and is put on the session's class path
here. Spark needs a Java runtime: ``make java`` installs Debian's ``openjdk-17-jre-headless``.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

from dancu.errors import DomainValidationError


def java_available() -> bool:
    return bool(os.environ.get("JAVA_HOME") or shutil.which("java"))


def local_session(
    *, threads: int = 1, partitions: int = 2, memory: str = "1g", app: str = "dancu-linkage"
) -> Any:
    """A local-mode Spark session with Splink's UDF jar, few shuffle partitions (small data), no
    web UI, bound to the loopback interface."""
    if not java_available():
        raise DomainValidationError.single("spark", "java", "no Java runtime: run `make java`")
    import logging

    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    # py4j says at INFO when its connection closes, which may be after the process's streams are
    logging.getLogger("py4j").setLevel(logging.WARNING)
    return (
        SparkSession.builder.master(f"local[{threads}]")
        .appName(app)
        .config("spark.jars", similarity_jar_location())
        .config("spark.driver.memory", memory)
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(partitions))
        .config("spark.default.parallelism", str(partitions))
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )


def spark_api(session: Any, *, partitions: int = 2) -> Any:
    """Splink's Spark backend on ``session`` (its UDFs registered from the jar); intermediate
    tables are persisted (local mode has no checkpoint directory)."""
    from splink.backends.spark import SparkAPI

    return SparkAPI(
        spark_session=session, break_lineage_method="persist", num_partitions_on_repartition=partitions
    )


def is_spark(db_api: Any) -> bool:
    return type(db_api).__name__ == "SparkAPI"


def to_spark(db_api: Any, frame: Any) -> Any:
    """A pandas frame of features as a Spark DataFrame with an explicit schema (``unique_id`` a
    long, every other column a string): Spark cannot infer the type of a column that is all null,
    such as the registry side's swapped date."""
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    schema = StructType(
        [StructField(c, LongType() if c == "unique_id" else StringType(), True) for c in frame.columns]
    )
    rows = [
        tuple(
            None if v is None or v != v else (int(v) if c == "unique_id" else str(v))
            for c, v in zip(frame.columns, r, strict=True)
        )
        for r in frame.itertuples(index=False, name=None)
    ]
    return db_api.spark.createDataFrame(rows, schema)
