{{/* Names and labels shared by every template of the chart. */}}

{{- define "liqo-shortcut.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's objects' name: the release name alone when it already says liqo-shortcut. */}}
{{- define "liqo-shortcut.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "liqo-shortcut.selectorLabels" -}}
app.kubernetes.io/name: {{ include "liqo-shortcut.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "liqo-shortcut.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "liqo-shortcut.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "liqo-shortcut.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "liqo-shortcut.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name: name the existing ServiceAccount when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The watched namespaces as a JSON list (templates range over it with fromJsonArray). */}}
{{- define "liqo-shortcut.watchNamespaces" -}}
{{- toJson (default (list .Release.Namespace) .Values.watchNamespaces) }}
{{- end }}

{{/* Refuse values that would render a working-looking but wrong operator. */}}
{{- define "liqo-shortcut.checkValues" -}}
{{- if and .Values.standalone (gt (int .Values.replicas) 1) }}
{{- fail "replicas > 1 needs standalone=false: standalone operators do not coordinate, and two would handle the same shortcuts" }}
{{- end }}
{{- end }}
