"""How dbt resources become Dagster assets beyond dagster-dbt's defaults: each model's automation
condition (defs/automation.py), and, for the year models, the yearly assets behind their staging
views as direct upstream, so a year's models know which year changed (a staging view is a view over
every year: through it, any year's update would look like every year's)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

from .. import automation


def _tags(props: Mapping[str, Any]) -> set[str]:
    return set(props.get("tags") or ())


class AquamindTranslator(DagsterDbtTranslator):
    def get_automation_condition(self, dbt_resource_props: Mapping[str, Any]) -> dg.AutomationCondition | None:
        tags = _tags(dbt_resource_props)
        if "year_incremental" in tags:
            return automation.YEAR_MODELS
        if "cross_year" in tags:
            return automation.CROSS_YEAR_MODELS
        return None  # staging views and seeds change with the code, not with the data

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if unique_id.startswith("model.") and "year_incremental" in _tags(props):
            return spec.merge_attributes(deps=sorted(self._writers_behind(manifest, props, project),
                                                     key=lambda k: k.to_user_string()))
        return spec

    def _writers_behind(self, manifest, props, project) -> set[dg.AssetKey]:
        """The assets writing the sources this model reads through the staging views it refs."""
        have = {d.asset_key for d in super().get_asset_spec(manifest, props["unique_id"], project).deps}
        out = set()
        for parent in props.get("depends_on", {}).get("nodes", []):
            node = self.get_resource_props(manifest, parent)
            for grand in node.get("depends_on", {}).get("nodes", []) if "staging" in _tags(node) else ():
                if grand.startswith("source."):
                    key = self.get_asset_spec(manifest, grand, project).key
                    if key not in have and key != dg.AssetKey("load_records"):
                        out.add(key)
        return out


TRANSLATOR = AquamindTranslator(settings=DagsterDbtTranslatorSettings(
    # several warehouse tables belong to one Dagster asset (batches writes seven), hence duplicate source keys
    enable_asset_checks=True, enable_duplicate_source_asset_keys=True))
