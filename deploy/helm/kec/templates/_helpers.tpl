{{/* Names ------------------------------------------------------------------------------------------------------ */}}
{{- define "kec.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "kec.labels" -}}
app.kubernetes.io/name: kec
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: kube-event-center
app.kubernetes.io/component: {{ .component }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{- define "kec.selector" -}}
app.kubernetes.io/name: kec
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Profile decisions ------------------------------------------------------------------------------------------- */}}
{{- define "kec.scaled" -}}{{ if eq .Values.profile "scaled" }}true{{ end }}{{- end -}}

{{- define "kec.chMode" -}}
{{- if .Values.clickhouse.mode -}}{{ .Values.clickhouse.mode }}
{{- else if eq .Values.profile "scaled" -}}bundled
{{- else -}}embedded{{- end -}}
{{- end -}}

{{- define "kec.grafanaEnabled" -}}
{{- if kindIs "bool" .Values.grafana.enabled -}}{{ if .Values.grafana.enabled }}true{{ end }}
{{- else if eq .Values.profile "scaled" -}}true{{- end -}}
{{- end -}}

{{- define "kec.natsReplicas" -}}
{{- if eq .Values.profile "scaled" }}{{ .Values.nats.replicas }}{{ else }}1{{ end -}}
{{- end -}}

{{/* KEC_STREAM_REPLICAS: nats.streamReplicas when set, else for the bundled NATS its node count up to 3 (R3 on the
     scaled 3-node cluster: one node may be lost), else 1. More replicas than bundled nodes cannot be placed. */}}
{{- define "kec.streamReplicas" -}}
{{- $nodes := int (include "kec.natsReplicas" .) -}}
{{- $bundled := eq .Values.nats.mode "bundled" -}}
{{- if .Values.nats.streamReplicas -}}
{{- if and $bundled (gt (int .Values.nats.streamReplicas) $nodes) -}}
{{- fail (printf "nats.streamReplicas=%v needs at least that many NATS nodes; the bundled NATS has %d" .Values.nats.streamReplicas $nodes) -}}
{{- end -}}
{{ .Values.nats.streamReplicas }}
{{- else if $bundled -}}{{ min $nodes 3 }}
{{- else -}}1{{- end -}}
{{- end -}}

{{/* The kec image, pinned by tag or digest. */}}
{{- define "kec.image" -}}
{{- if .Values.image.digest -}}{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}{{ .Values.image.repository }}:{{ .Values.image.tag }}{{- end -}}
{{- end -}}

{{/* Security: every pod and container ------------------------------------------------------------------------ */}}
{{- define "kec.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .uid }}
runAsGroup: {{ .uid }}
fsGroup: {{ .uid }}
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "kec.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
privileged: false
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "kec.podScheduling" -}}
{{- with .Values.nodeSelector }}
nodeSelector: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets: {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Where kec reaches its dependencies ---------------------------------------------------------------------- */}}
{{- define "kec.natsUrl" -}}
{{- $full := include "kec.fullname" . -}}
{{- $n := int (include "kec.natsReplicas" .) -}}
{{- $urls := list -}}
{{- range $i, $_ := until $n -}}
{{- $urls = append $urls (printf "nats://%s-nats-%d.%s-nats-headless.%s.svc:4222" $full $i $full $.Release.Namespace) -}}
{{- end -}}
{{- join "," $urls -}}
{{- end -}}

{{/* Environment shared by every kec container. */}}
{{- define "kec.env" -}}
- name: POD_NAME
  valueFrom: { fieldRef: { fieldPath: metadata.name } }
- name: POD_NAMESPACE
  valueFrom: { fieldRef: { fieldPath: metadata.namespace } }
- name: KEC_CONFIG_FILE
  value: /etc/kec/config.yaml
- name: KEC_CLUSTER
  value: {{ .Values.cluster | quote }}
- name: KEC_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: KEC_METRICS_PORT
  value: {{ .Values.metricsPort | quote }}
- name: KEC_SHUTDOWN_GRACE_MS
  value: {{ mul .Values.shutdownGraceSeconds 1000 | quote }}
- name: KEC_DATA_DIR
  value: /data
{{- if eq .Values.nats.mode "external" }}
{{- if .Values.nats.existingSecret }}
- name: KEC_NATS_URL
  valueFrom: { secretKeyRef: { name: {{ .Values.nats.existingSecret }}, key: url } }
{{- else }}
- name: KEC_NATS_URL
  value: {{ required "nats.url or nats.existingSecret is required with nats.mode external" .Values.nats.url | quote }}
{{- end }}
{{- else }}
- name: KEC_NATS_URL
  value: {{ include "kec.natsUrl" . | quote }}
{{- end }}
- name: KEC_STREAM_REPLICAS
  value: {{ include "kec.streamReplicas" . | quote }}
{{- if eq .Values.redis.mode "external" }}
{{- if .Values.redis.existingSecret }}
- name: KEC_REDIS_URL
  valueFrom: { secretKeyRef: { name: {{ .Values.redis.existingSecret }}, key: url } }
{{- else }}
- name: KEC_REDIS_URL
  value: {{ required "redis.url or redis.existingSecret is required with redis.mode external" .Values.redis.url | quote }}
{{- end }}
{{- else }}
- name: KEC_REDIS_URL
  value: {{ printf "redis://%s-redis.%s.svc:6379" (include "kec.fullname" .) .Release.Namespace | quote }}
{{- end }}
{{- $ch := include "kec.chMode" . }}
{{- if eq $ch "external" }}
- name: KEC_CLICKHOUSE_URL
  valueFrom: { secretKeyRef: { name: {{ required "clickhouse.existingSecret (key url) is required with clickhouse.mode external" .Values.clickhouse.existingSecret }}, key: url } }
{{- else if eq $ch "bundled" }}
- name: CLICKHOUSE_PASSWORD
  valueFrom: { secretKeyRef: { name: {{ required "clickhouse.authSecret is required with a bundled ClickHouse" .Values.clickhouse.authSecret }}, key: kec-password } }
- name: KEC_CLICKHOUSE_URL
  value: {{ printf "http://kec:$(CLICKHOUSE_PASSWORD)@%s-clickhouse.%s.svc:8123/kec" (include "kec.fullname" .) .Release.Namespace | quote }}
{{- end }}
{{- end -}}

{{/* One kec container. args: root, component, args (kec run ...), ports (extra), env (extra), mounts (extra) */}}
{{- define "kec.container" -}}
{{- $root := .root -}}
- name: kec
  image: {{ include "kec.image" $root }}
  imagePullPolicy: {{ $root.Values.image.pullPolicy }}
  args: {{ toJson .args }}
  env:
    {{- include "kec.env" $root | nindent 4 }}
    {{- with .env }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  ports:
    - name: metrics
      containerPort: {{ $root.Values.metricsPort }}
      protocol: TCP
    {{- with .ports }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  livenessProbe:
    httpGet: { path: /healthz, port: metrics }
    initialDelaySeconds: 10
    periodSeconds: 10
    timeoutSeconds: 3
    failureThreshold: 6
  readinessProbe:
    httpGet: { path: /readyz, port: metrics }
    periodSeconds: 5
    timeoutSeconds: 3
    failureThreshold: 3
  startupProbe:
    httpGet: { path: /healthz, port: metrics }
    periodSeconds: 5
    failureThreshold: 60
  resources: {{- toYaml .resources | nindent 4 }}
  securityContext: {{- include "kec.containerSecurityContext" . | nindent 4 }}
  volumeMounts:
    - { name: config, mountPath: /etc/kec, readOnly: true }
    - { name: tmp, mountPath: /tmp }
    {{- with .mounts }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}

{{/* A kec Deployment. dict: root, component, args, replicas, resources, apiAccess (bool), env, ports, mounts,
     volumes, recreate (bool) */}}
{{- define "kec.deployment" -}}
{{- $root := .root -}}
{{- $full := include "kec.fullname" $root -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $full }}-{{ .component }}
  namespace: {{ $root.Release.Namespace }}
  labels: {{- include "kec.labels" . | nindent 4 }}
spec:
  {{- if not .hpa }}
  replicas: {{ .replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  {{- if .recreate }}
  strategy: { type: Recreate }
  {{- end }}
  selector:
    matchLabels: {{- include "kec.selector" . | nindent 6 }}
  template:
    metadata:
      labels: {{- include "kec.labels" . | nindent 8 }}
      annotations:
        checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
        {{- with $root.Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ $full }}-{{ .component }}
      automountServiceAccountToken: {{ .apiAccess }}
      enableServiceLinks: false
      terminationGracePeriodSeconds: {{ add $root.Values.shutdownGraceSeconds 5 }}
      securityContext: {{- include "kec.podSecurityContext" (dict "uid" 1000) | nindent 8 }}
      {{- include "kec.podScheduling" $root | nindent 6 }}
      containers:
        {{- include "kec.container" . | nindent 8 }}
      volumes:
        - name: config
          configMap: { name: {{ $full }}-config }
        - name: tmp
          emptyDir: { sizeLimit: 256Mi }
        {{- with .volumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
{{- end -}}

{{/* ServiceAccount of a component: the token is mounted only where the component calls the Kubernetes API. */}}
{{- define "kec.serviceAccount" -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "kec.fullname" .root }}-{{ .component }}
  namespace: {{ .root.Release.Namespace }}
  labels: {{- include "kec.labels" . | nindent 4 }}
automountServiceAccountToken: {{ .apiAccess }}
{{- end -}}

{{/* PodDisruptionBudget: at most one pod of the component down at a time. */}}
{{- define "kec.pdb" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "kec.fullname" .root }}-{{ .component }}
  namespace: {{ .root.Release.Namespace }}
  labels: {{- include "kec.labels" . | nindent 4 }}
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {{- include "kec.selector" . | nindent 6 }}
{{- end -}}

{{/* Metrics Service of a kec component (scraped by the ServiceMonitor). */}}
{{- define "kec.metricsService" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "kec.fullname" .root }}-{{ .component }}-metrics
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "kec.labels" . | nindent 4 }}
    kec.io/metrics: "true"
spec:
  type: ClusterIP
  clusterIP: None
  selector: {{- include "kec.selector" . | nindent 4 }}
  ports:
    - { name: metrics, port: {{ .root.Values.metricsPort }}, targetPort: metrics, protocol: TCP }
{{- end -}}

{{/* HorizontalPodAutoscaler on CPU. dict: root, component, autoscaling */}}
{{- define "kec.hpa" -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "kec.fullname" .root }}-{{ .component }}
  namespace: {{ .root.Release.Namespace }}
  labels: {{- include "kec.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "kec.fullname" .root }}-{{ .component }}
  minReplicas: {{ .autoscaling.minReplicas }}
  maxReplicas: {{ .autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target: { type: Utilization, averageUtilization: {{ .autoscaling.targetCPUUtilizationPercentage }} }
{{- end -}}
