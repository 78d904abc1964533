{{/*
The chart's name, truncated to the 63 characters a label value may have.
*/}}
{{- define "redress.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The fully qualified name of the release's objects. Each service appends `-<service>`, so it
is truncated to leave room for the longest, `-notification`.
*/}}
{{- define "redress.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The chart label: name and version.
*/}}
{{- define "redress.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every object. Call with (dict "root" $ "component" "case").
*/}}
{{- define "redress.labels" -}}
helm.sh/chart: {{ include "redress.chart" .root }}
{{ include "redress.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: redress
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Selector labels of one component. Call with (dict "root" $ "component" "case").
*/}}
{{- define "redress.selectorLabels" -}}
app.kubernetes.io/name: {{ include "redress.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
The name of one service's objects: `<fullname>-<service>`.
*/}}
{{- define "redress.componentName" -}}
{{- printf "%s-%s" (include "redress.fullname" .root) .component }}
{{- end }}

{{/*
The ServiceAccount a service runs as.
*/}}
{{- define "redress.serviceAccountName" -}}
{{- $svc := index .root.Values.services .component }}
{{- if $svc.serviceAccount.create }}
{{- default (include "redress.componentName" .) $svc.serviceAccount.name }}
{{- else }}
{{- default "default" $svc.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The image reference: a digest wins over a tag; the tag defaults to the appVersion.
*/}}
{{- define "redress.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The services in the order data flows through them.
*/}}
{{- define "redress.serviceNames" -}}
intake case escalation notification analytics
{{- end }}

{{/*
The services each service calls over gRPC (peers.*), and so may reach through the network.
*/}}
{{- define "redress.calls" -}}
{{- $calls := dict
      "intake" (list "case")
      "case" (list)
      "escalation" (list "case" "notification")
      "notification" (list "case" "escalation")
      "analytics" (list "case") }}
{{- toJson $calls }}
{{- end }}

{{/*
Whether a service talks to Redis: escalation keeps its SLA deadlines there, intake its shared
rate limiter and per-customer locks.
*/}}
{{- define "redress.usesRedis" -}}
{{- if has .component (list "intake" "escalation") }}true{{ end }}
{{- end }}

{{/*
A value as a configuration string: whole numbers without an exponent, everything else as is.
*/}}
{{- define "redress.configValue" -}}
{{- if kindIs "float64" . }}
{{- if eq (float64 (int64 .)) . }}{{ int64 . }}{{ else }}{{ . }}{{ end }}
{{- else if kindIs "invalid" . }}
{{- else }}
{{- . }}
{{- end }}
{{- end }}

{{/*
A count or a percentage, as Kubernetes takes them: 1 or "50%".
*/}}
{{- define "redress.intOrString" -}}
{{- if kindIs "string" . }}{{ . | quote }}{{ else }}{{ int64 . }}{{ end }}
{{- end }}

{{/*
The environment variable of a configuration key: `REDRESS_` and the key upper-cased with `__`
between levels (`case.database_url` is `REDRESS_CASE__DATABASE_URL`).
*/}}
{{- define "redress.envName" -}}
{{- printf "REDRESS_%s" (. | upper | replace "." "__") }}
{{- end }}

{{/*
The database URL Secret of a service: its own, else the shared one.
*/}}
{{- define "redress.databaseEnv" -}}
- name: REDRESS_DATABASE__URL
  valueFrom:
    secretKeyRef:
      name: {{ required "database.existingSecret is required: a Secret holding the PostgreSQL URL" .root.Values.database.existingSecret }}
      key: {{ .root.Values.database.existingSecretKey }}
{{- $svc := index .root.Values.services .component }}
{{- if $svc.database.existingSecret }}
- name: {{ include "redress.envName" (printf "%s.database_url" .component) }}
  valueFrom:
    secretKeyRef:
      name: {{ $svc.database.existingSecret }}
      key: {{ $svc.database.existingSecretKey }}
{{- end }}
- name: REDRESS_DATABASE__MIGRATE_ON_START
  value: "false"
- name: REDRESS_DATABASE__MAX_CONNECTIONS
  value: {{ int64 .root.Values.database.maxConnections | quote }}
- name: REDRESS_DATABASE__ACQUIRE_TIMEOUT
  value: {{ .root.Values.database.acquireTimeout | quote }}
{{- end }}

{{/*
Who may call: the `[auth]` section, the service token from its Secret.
*/}}
{{- define "redress.authEnv" -}}
{{- $auth := .Values.auth }}
- name: REDRESS_AUTH__MODE
  value: {{ $auth.mode | quote }}
{{- if eq $auth.mode "tokens" }}
{{- if $auth.issuer }}
- name: REDRESS_AUTH__ISSUER
  value: {{ $auth.issuer | quote }}
- name: REDRESS_AUTH__AUDIENCE
  value: {{ required "auth.audience is required with auth.issuer" $auth.audience | quote }}
- name: REDRESS_AUTH__JWKS_URL
  value: {{ required "auth.jwksUrl is required with auth.issuer" $auth.jwksUrl | quote }}
{{- end }}
- name: REDRESS_AUTH__JWKS_REFRESH
  value: {{ $auth.jwksRefresh | quote }}
- name: REDRESS_AUTH__CLOCK_SKEW
  value: {{ $auth.clockSkew | quote }}
- name: REDRESS_AUTH__TENANT_CLAIM
  value: {{ $auth.tenantClaim | quote }}
- name: REDRESS_AUTH__ROLES_CLAIM
  value: {{ $auth.rolesClaim | quote }}
- name: REDRESS_AUTH__API_KEY_REFRESH
  value: {{ $auth.apiKeyRefresh | quote }}
- name: REDRESS_AUTH__SERVICE_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ required "auth.serviceTokenSecret.name is required in tokens mode: a Secret holding the service token" $auth.serviceTokenSecret.name }}
      key: {{ $auth.serviceTokenSecret.key }}
{{- end }}
{{- end }}

{{/*
Logging and telemetry settings, shared by the services and the migration Job.
*/}}
{{- define "redress.observabilityEnv" -}}
- name: REDRESS_LOG__FORMAT
  value: {{ .Values.log.format | quote }}
- name: REDRESS_LOG__LEVEL
  value: {{ .Values.log.level | quote }}
{{- with .Values.telemetry.otlpEndpoint }}
- name: REDRESS_TELEMETRY__OTLP_ENDPOINT
  value: {{ . | quote }}
{{- end }}
- name: REDRESS_TELEMETRY__SAMPLING_RATIO
  value: {{ include "redress.configValue" .Values.telemetry.samplingRatio | quote }}
- name: REDRESS_TELEMETRY__METRICS_INTERVAL
  value: {{ .Values.telemetry.metricsInterval | quote }}
{{- end }}

{{/*
The environment of one service's container: every `REDRESS_…` variable the binary reads.
Call with (dict "root" $ "component" "case").
*/}}
{{- define "redress.env" -}}
{{- $root := .root }}
{{- $svc := index $root.Values.services .component }}
{{- $fullname := include "redress.fullname" $root }}
{{- include "redress.observabilityEnv" $root }}
- name: REDRESS_METRICS__LISTEN
  value: {{ printf "0.0.0.0:%d" (int64 $root.Values.metrics.port) | quote }}
- name: REDRESS_GRPC__REQUEST_TIMEOUT
  value: {{ $root.Values.grpc.requestTimeout | quote }}
- name: REDRESS_GRPC__CONCURRENCY_LIMIT
  value: {{ int64 $root.Values.grpc.concurrencyLimit | quote }}
- name: REDRESS_GRPC__MAX_MESSAGE_BYTES
  value: {{ int64 $root.Values.grpc.maxMessageBytes | quote }}
- name: REDRESS_GRPC__SHUTDOWN_GRACE
  value: {{ $root.Values.grpc.shutdownGrace | quote }}
- name: REDRESS_CLIENT__TIMEOUT
  value: {{ $root.Values.client.timeout | quote }}
- name: REDRESS_CLIENT__CONNECT_TIMEOUT
  value: {{ $root.Values.client.connectTimeout | quote }}
- name: REDRESS_CLIENT__MAX_RETRIES
  value: {{ int64 $root.Values.client.maxRetries | quote }}
- name: REDRESS_CLIENT__BACKOFF_BASE
  value: {{ $root.Values.client.backoffBase | quote }}
- name: REDRESS_CLIENT__BACKOFF_MAX
  value: {{ $root.Values.client.backoffMax | quote }}
{{ include "redress.authEnv" $root }}
{{ include "redress.databaseEnv" . }}
{{- if include "redress.usesRedis" . }}
{{- if $root.Values.redis.existingSecret }}
- name: REDRESS_REDIS__URL
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.redis.existingSecret }}
      key: {{ $root.Values.redis.existingSecretKey }}
{{- else if eq .component "escalation" }}
{{- fail "redis.existingSecret is required: the escalation service keeps its SLA deadlines in Redis" }}
{{- end }}
- name: REDRESS_REDIS__KEY_PREFIX
  value: {{ $root.Values.redis.keyPrefix | quote }}
{{- end }}
{{- $scheme := ternary "https" "http" $root.Values.tls.enabled }}
{{- if $root.Values.tls.enabled }}
- name: REDRESS_TLS__CERT_FILE
  value: "/etc/redress/tls/tls.crt"
- name: REDRESS_TLS__KEY_FILE
  value: "/etc/redress/tls/tls.key"
- name: REDRESS_TLS__CA_FILE
  value: "/etc/redress/tls/ca.crt"
- name: REDRESS_TLS__RELOAD_INTERVAL
  value: {{ $root.Values.tls.reloadInterval | quote }}
{{- end }}
- name: REDRESS_PEERS__CASE
  value: {{ printf "%s://%s-case:%d" $scheme $fullname (int64 $root.Values.services.case.port) | quote }}
- name: REDRESS_PEERS__ESCALATION
  value: {{ printf "%s://%s-escalation:%d" $scheme $fullname (int64 $root.Values.services.escalation.port) | quote }}
- name: REDRESS_PEERS__NOTIFICATION
  value: {{ printf "%s://%s-notification:%d" $scheme $fullname (int64 $root.Values.services.notification.port) | quote }}
- name: {{ include "redress.envName" (printf "%s.listen" .component) }}
  value: {{ printf "0.0.0.0:%d" (int64 $svc.port) | quote }}
{{- if eq .component "analytics" }}
- name: REDRESS_ANALYTICS__FLIGHT_LISTEN
  value: {{ ternary (printf "0.0.0.0:%d" (int64 $svc.flight.port)) "" $svc.flight.enabled | quote }}
{{- with $svc.flight.readerUrlSecret.name }}
- name: REDRESS_ANALYTICS__FLIGHT_READER_URL
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $svc.flight.readerUrlSecret.key }}
{{- end }}
{{- end }}
{{- range $key, $value := $svc.config }}
- name: {{ include "redress.envName" (printf "%s.%s" $.component $key) }}
  value: {{ include "redress.configValue" $value | quote }}
{{- end }}
{{- range $key, $ref := $svc.secretConfig }}
- name: {{ include "redress.envName" (printf "%s.%s" $.component $key) }}
  valueFrom:
    secretKeyRef:
      name: {{ $ref.name }}
      key: {{ $ref.key }}
{{- end }}
{{- with $svc.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
A probe, with timings from values: the native gRPC probe on the service's port, or, with TLS
on (the kubelet's gRPC probe speaks no TLS), GET /readyz on the plaintext metrics port.
*/}}
{{- define "redress.probe" -}}
{{- if .tls }}
httpGet:
  path: /readyz
  port: metrics
{{- else }}
grpc:
  port: {{ int64 .port }}
  service: ""
{{- end }}
periodSeconds: {{ int64 .timing.periodSeconds }}
timeoutSeconds: {{ int64 .timing.timeoutSeconds }}
failureThreshold: {{ int64 .timing.failureThreshold }}
{{- end }}

{{/*
The /tmp volume every pod mounts, the only writable path.
*/}}
{{- define "redress.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end }}

{{/*
A NetworkPolicy egress rule from values: `to` (NetworkPolicyPeers; empty means any
destination) and `ports`, over TCP, and UDP as well when "udp" is true.
*/}}
{{- define "redress.egressRule" -}}
{{- if .rule.to -}}
- to:
    {{- toYaml .rule.to | nindent 4 }}
  ports:
{{- else -}}
- ports:
{{- end }}
{{- range $port := .rule.ports }}
{{- if $.udp }}
    - port: {{ int64 $port }}
      protocol: UDP
{{- end }}
    - port: {{ int64 $port }}
      protocol: TCP
{{- end }}
{{- end }}
