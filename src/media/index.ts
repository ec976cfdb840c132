/** Public surface of the media domain (ffmpeg jobs): for jobs/ and server/. */
export { analyzeMedia, DEFAULT_ANALYZE_SETTINGS, type AnalysisReport, type AnalyzeSettings, type SilenceSegment } from "./analyze.ts";
export { enhanceMedia, NOISE_REDUCTION_AMOUNTS, type EnhanceSettings, type EnhanceSummary, type NoiseReductionAmount } from "./enhance.ts";
export { type MediaInput, type MediaSink, type StreamedMedia } from "./media-stream.ts";
export { Mp4Layout, tapChunks } from "./mp4-layout.ts";
export { contentTypeOf, formatFromContainer, formatFromName, OUTPUT_FORMAT_NAMES, type OutputFormatName } from "./formats.ts";
export { MediaError, isMediaError, type MediaErrorCode } from "./media-errors.ts";
export { DEFAULT_MEDIA_TOOLS, type MediaTools } from "./media-tool.ts";
export { probeMedia, type MediaInfo } from "./probe.ts";
export { transcodeMedia, type OutputSummary } from "./transcode.ts";
