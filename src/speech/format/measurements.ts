/** Spoken unit -> abbreviation, for `measurements` ("five kilograms" -> "5 kg"). */
export const MEASUREMENT_UNITS: Readonly<Record<string, string>> = {
  kilograms: "kg", kilogram: "kg", kilos: "kg", grams: "g", gram: "g", milligrams: "mg", milligram: "mg",
  pounds: "lb", pound: "lb", ounces: "oz", ounce: "oz",
  kilometers: "km", kilometer: "km", meters: "m", meter: "m", centimeters: "cm", centimeter: "cm",
  millimeters: "mm", millimeter: "mm", miles: "mi", mile: "mi", feet: "ft", foot: "ft", inches: "in", inch: "in",
  yards: "yd", yard: "yd", liters: "L", liter: "L", milliliters: "mL", milliliter: "mL", gallons: "gal", gallon: "gal",
  degrees: "°", degree: "°", mph: "mph", kilobytes: "KB", megabytes: "MB", gigabytes: "GB", terabytes: "TB",
  hertz: "Hz", kilohertz: "kHz", megahertz: "MHz", gigahertz: "GHz", volts: "V", watts: "W", kilowatts: "kW",
};
