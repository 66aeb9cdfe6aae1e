{{/*
Names and labels. manifests/src/app.ts (identity) computes the same; a test compares the
chart's default render with manifests/install.yaml.
*/}}

{{/* Name of the operator objects: ServiceAccount, ClusterRole, Deployment, Lease. */}}
{{- define "tributary.fullname" -}}
{{- .Values.fullnameOverride | default (printf "%s-operator" .Release.Name) -}}
{{- end }}

{{/* The operator's ServiceAccount: serviceAccount.name, or the operator objects' name. */}}
{{- define "tributary.serviceAccountName" -}}
{{- .Values.serviceAccount.name | default (include "tributary.fullname" .) -}}
{{- end }}

{{/* Labels that select the operator pods; never change across upgrades. */}}
{{- define "tributary.selectorLabels" -}}
app.kubernetes.io/name: tributary
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{/* Labels on every object. */}}
{{- define "tributary.labels" -}}
{{ include "tributary.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: tributary
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Image of the operator and the built-in connector. */}}
{{- define "tributary.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/*
What the operator may do where Integrations live (manifests/src/rbac.ts, WATCH_RULES): no
wildcards, no Secret list/watch, no escalate/bind/impersonate; tests assert it.
*/}}
{{- define "tributary.watchRules" -}}
- apiGroups: [tributary.dev]
  resources: [integrations, reconcilepolicies]
  verbs: [get, list, watch]
- apiGroups: [tributary.dev]
  resources: [integrations/status, reconcilepolicies/status]
  verbs: [get, update, patch]
- apiGroups: [tributary.dev]
  resources: [integrations/finalizers]
  verbs: [update]
- apiGroups: [batch]
  resources: [jobs]
  verbs: [get, list, watch, create, delete]
- apiGroups: ['']
  resources: [pods]
  verbs: [get, list, watch]
# A metadata-only GET to report a missing Secret by name; never list or watch.
- apiGroups: ['']
  resources: [secrets]
  verbs: [get]
- apiGroups: ['']
  resources: [events]
  verbs: [create, patch]
{{- end }}

{{/* Name of the intake objects: StatefulSet, ServiceAccount, Services, ClusterRole. */}}
{{- define "tributary.intakeName" -}}
{{- printf "%s-intake" (.Values.fullnameOverride | default .Release.Name) -}}
{{- end }}

{{/* Labels that select the intake pods; the operator lists them by name and component. */}}
{{- define "tributary.intakeSelectorLabels" -}}
app.kubernetes.io/name: tributary
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: intake
{{- end }}

{{/* Labels on every intake object. */}}
{{- define "tributary.intakeLabels" -}}
{{ include "tributary.intakeSelectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: tributary
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
What the intake may do where Integrations live (manifests/src/intake-rbac.ts, INTAKE_RULES):
read Integrations; get the Secrets an Integration names, by name; never list or watch them.
*/}}
{{- define "tributary.intakeRules" -}}
- apiGroups: [tributary.dev]
  resources: [integrations]
  verbs: [get, list, watch]
- apiGroups: ['']
  resources: [secrets]
  verbs: [get]
{{- end }}
