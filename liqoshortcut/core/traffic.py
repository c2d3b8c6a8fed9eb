"""Which Services may send their traffic between the two edges over a shortcut, and on which path.

The spec's half of the traffic policy (`routing` decides per Service, `pathhealth` per shortcut).
Its defaults move nothing: no Service is selected, so a shortcut connects the edges and no
traffic changes path by surprise; once Services are selected they go direct while the shortcut
is healthy, unless the path says Hub (connected, unused) or Auto (whichever measures faster).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator

from liqoshortcut.core.schema import LABEL_VALUE_PATTERN, SpecModel, field_error, rule, validations


class ServiceSelection(StrEnum):
    """spec.traffic.services."""

    NONE = "None"  # no Service
    ALL = "All"  # every offloaded Service of central with endpoints on both edges
    SELECTED = "Selected"  # those of them matching namespaceSelector and serviceSelector


class PathMode(StrEnum):
    """spec.traffic.path: how the selected Services' path is chosen."""

    DIRECT = "Direct"  # over the shortcut while it is healthy, else through central
    HUB = "Hub"  # always through central (connected, not used)
    AUTO = "Auto"  # whichever path measures faster


class Path(StrEnum):
    """Where the selected Services' traffic goes now: what a mode chose (status.path)."""

    DIRECT = "Direct"
    HUB = "Hub"


SelectorOperator = Literal["In", "NotIn", "Exists", "DoesNotExist"]

MAX_LABEL_KEY_LENGTH = 317  # a DNS subdomain prefix (253), "/", a name (63)
# Kubernetes' label value (k8s.io/apimachinery validation.IsValidLabelValue).
LabelValue = Annotated[str, Field(max_length=63, pattern=LABEL_VALUE_PATTERN)]

VALUES_FIT_THE_OPERATOR = "In and NotIn need values; Exists and DoesNotExist take none"
SELECTED_NEEDS_A_SELECTOR = "Selected needs a namespaceSelector or a serviceSelector"
SELECTORS_NEED_SELECTED = "namespaceSelector and serviceSelector apply only with Selected"


class LabelSelectorRequirement(SpecModel):
    """One of a selector's ``matchExpressions``, as in Kubernetes' metav1.LabelSelector."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            rule(
                "(self.operator in ['In', 'NotIn']) == (has(self.values) && size(self.values) > 0)",
                VALUES_FIT_THE_OPERATOR,
                ".values",
            )
        ),
    )

    key: str = Field(min_length=1, max_length=MAX_LABEL_KEY_LENGTH)
    operator: SelectorOperator
    values: tuple[LabelValue, ...] | None = None

    @model_validator(mode="after")
    def _values_fit_the_operator(self) -> LabelSelectorRequirement:
        if (self.operator in ("In", "NotIn")) != bool(self.values):
            raise field_error("values", "values", VALUES_FIT_THE_OPERATOR)
        return self


class LabelSelector(SpecModel):
    """Kubernetes' label selector: every part must match, and an empty one selects everything."""

    match_labels: dict[str, LabelValue] | None = Field(None, alias="matchLabels")
    match_expressions: tuple[LabelSelectorRequirement, ...] | None = Field(
        None, alias="matchExpressions"
    )


class TrafficPolicy(SpecModel):
    model_config = ConfigDict(
        json_schema_extra=validations(
            rule(
                "self.services != 'Selected'"
                " || has(self.namespaceSelector) || has(self.serviceSelector)",
                SELECTED_NEEDS_A_SELECTOR,
                ".services",
            ),
            rule(
                "self.services == 'Selected'"
                " || !(has(self.namespaceSelector) || has(self.serviceSelector))",
                SELECTORS_NEED_SELECTED,
                ".services",
            ),
        ),
    )

    services: ServiceSelection = Field(
        ServiceSelection.NONE,
        description=(
            "Which of central's offloaded Services with endpoints on both edges use the "
            "shortcut: None, All, or Selected (by namespaceSelector and serviceSelector)."
        ),
    )
    namespace_selector: LabelSelector | None = Field(
        None,
        alias="namespaceSelector",
        description="With Selected: the namespaces whose Services may use the shortcut.",
    )
    service_selector: LabelSelector | None = Field(
        None,
        alias="serviceSelector",
        description="With Selected: the labels of the Services that may use the shortcut.",
    )
    path: PathMode = Field(
        PathMode.DIRECT,
        description=(
            "Direct: over the shortcut while it is healthy, else through central; Hub: always "
            "through central; Auto: whichever path measures faster."
        ),
    )

    @model_validator(mode="after")
    def _selectors_go_with_selected(self) -> TrafficPolicy:
        has_selector = self.namespace_selector is not None or self.service_selector is not None
        if self.services == ServiceSelection.SELECTED and not has_selector:
            raise field_error("services", "services", SELECTED_NEEDS_A_SELECTOR)
        if self.services != ServiceSelection.SELECTED and has_selector:
            raise field_error("services", "services", SELECTORS_NEED_SELECTED)
        return self
